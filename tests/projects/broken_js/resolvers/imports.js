import { util, nothingHere } from '@aws-appsync/utils';
import { cycle } from './cycle-a.js';
import lodash from 'lodash';

export function request(ctx) {
  return { payload: cycle() };
}

export function response(ctx) {
  return ctx.result;
}
