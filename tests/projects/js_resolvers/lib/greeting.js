// A local module: imported by relative path, like a bundler would.
export const prefix = 'Hello';
export function greet(name) {
  return `${prefix}, ${name}!`;
}
