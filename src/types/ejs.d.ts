// Minimal typing for ejs (used to render snarkjs's verifier template from a verification key).
declare module "ejs" {
  export function render(template: string, data: Record<string, unknown>): string;
}
