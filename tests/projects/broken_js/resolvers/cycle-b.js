import { cycle } from './cycle-a.js';
export const back = 1;
