import type { LocalStreamFraming } from './local-provider-options';

/** One server-sent event: an optional `event:` name and its `data` text. */
export interface SseEvent {
  readonly event?: string;
  readonly data: string;
}

/**
 * The text of one event as {@link LocalStreamFraming} lays it out: an optional comment line, an
 * optional `event:` line, the data (one `data:` line, or one per line of pretty-printed JSON), then the
 * blank line that ends the event.
 * @example frameEvent({ data: '{"a":1}' }, framing) // 'data: {"a":1}\n\n'
 */
export function frameEvent(sse: SseEvent, framing: Required<LocalStreamFraming>): string {
  const eol = framing.lineEnding;
  let text = framing.comments ? `: keep-alive${eol}` : '';
  if (sse.event !== undefined) text += `event: ${sse.event}${eol}`;
  for (const line of dataLines(sse.data, framing.multiLineData)) text += `data: ${line}${eol}`;
  return text + eol;
}

function dataLines(data: string, multiLine: boolean): string[] {
  if (!multiLine || !data.startsWith('{')) return [data];
  return JSON.stringify(JSON.parse(data), null, 2).split('\n');
}

/**
 * Cuts an event's bytes where `split` says: whole, inside every line ending, inside every multi-byte
 * UTF-8 character, or every `n` bytes. Joining the pieces gives the bytes back.
 * @example splitWrites('data: x\r\n\r\n', 'line-ending').map(String) // ['data: x\r', '\n\r', '\n']
 */
export function splitWrites(text: string, split: Required<LocalStreamFraming>['split']): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  if (split === 'event') return [bytes];
  const cuts: number[] = [];
  if (typeof split === 'number') {
    for (let at = split; at < bytes.length; at += split) cuts.push(at);
  } else if (split === 'utf8') {
    // A lead byte (11xxxxxx) starts a multi-byte character; cutting right after it splits the character.
    for (let i = 0; i < bytes.length - 1; i++) if (bytes[i]! >= 0xc0) cuts.push(i + 1);
  } else {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte === 0x0d && bytes[i + 1] === 0x0a) cuts.push(++i);
      else if ((byte === 0x0a || byte === 0x0d) && i > 0) cuts.push(i);
    }
  }
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    if (cut > start) pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  if (start < bytes.length) pieces.push(bytes.subarray(start));
  return pieces;
}
