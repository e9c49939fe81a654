import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return { payload: null };
}

export function response(ctx) {
  util.appendError('first problem', 'Warning');
  util.error('it failed', 'CustomError', { partial: true }, { hint: 'retry' });
}
