import { back } from './cycle-b.js';
export function cycle() {
  return back;
}
