// Errors as the user sees them: { code, message } with never a stack trace in the message.
import { toErrorInfo, type ErrorInfo } from '../../core/errors.ts';

/** Engine errors arrive as { code, message }; anything else gets a generic but stack-free text. */
export function asErrorInfo(err: unknown): ErrorInfo {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string' && e.code !== '') {
      return { code: e.code as ErrorInfo['code'], message: firstLine(e.message) };
    }
  }
  const info = toErrorInfo(err);
  return { ...info, message: firstLine(info.message) };
}

function firstLine(message: string): string {
  // a message is for people: never let a stack trace that leaked into it through
  const cut = message.search(/\n\s+at /);
  return (cut >= 0 ? message.slice(0, cut) : message).trim() || 'Something went wrong.';
}
