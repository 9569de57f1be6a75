import { fileURLToPath } from 'node:url';

/** Where `vite build` writes the pages; the API serves them from here. */
export const webDistDir = fileURLToPath(new URL('./dist', import.meta.url));
