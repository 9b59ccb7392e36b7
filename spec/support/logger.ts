import type { CachetLogger, LogFields } from '../../lib/core/logger';

/** A logger that records what it is given, per level. */
export function recordingLogger(): CachetLogger & { readonly lines: [string, LogFields, string][] } {
  const lines: [string, LogFields, string][] = [];
  const at = (level: string) => (fields: LogFields, message: string) => void lines.push([level, fields, message]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
