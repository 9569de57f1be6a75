/** A whole 1×1 PNG: the sniffer recognises it whatever follows (a cut-off PNG followed by noise may not be). */
export const ONE_PIXEL_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0a3f2c80000000049454e44ae426082',
  'hex',
);
