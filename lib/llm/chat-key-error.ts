import { CachetError } from '../core/errors';

/** The request had no usable shape, or the tenant function returned no tenant. */
export class ChatKeyError extends CachetError {
  readonly code = 'ERR_CACHET_CHAT_KEY';
  constructor(
    message: string,
    readonly found: unknown,
  ) {
    super(message);
  }
}

/** True for a {@link ChatKeyError}. */
export function isChatKeyError(error: unknown): error is ChatKeyError {
  return error instanceof ChatKeyError;
}
