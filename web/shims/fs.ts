/** Browser stand-in for node:fs: nothing the receipt/audit path calls; present so imports resolve. */
function unsupported(name: string): never {
  throw new Error(`${name} is not available in the browser`);
}
export const createReadStream = () => unsupported("fs.createReadStream");
export const readFileSync = () => unsupported("fs.readFileSync");
export const existsSync = () => false;
export const constants = { O_RDONLY: 0 };
export default { createReadStream, readFileSync, existsSync, constants };
