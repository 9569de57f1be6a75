import { encode } from 'uqr';

const SVG = 'http://www.w3.org/2000/svg';

/** Draws `text` as a QR code into an `<svg>`: one path of unit squares, built with DOM calls (no inline markup). */
export function drawQrCode(svg: SVGSVGElement, text: string): void {
  const { data, size } = encode(text, { ecc: 'M', border: 2 });
  const squares: string[] = [];
  data.forEach((row, y) => row.forEach((dark, x) => dark && squares.push(`M${x} ${y}h1v1h-1z`)));
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('class', 'qr-light');
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', squares.join(''));
  modules.setAttribute('class', 'qr-dark');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.replaceChildren(background, modules);
}
