/**
 * Whether a chat result is a whole answer, for `@Cached`'s `complete` (supplied by `chatKeyPolicy`):
 * - a stream (the array of its chunks) is whole when at least one choice appeared and every choice that
 *   appeared got a chunk with a `finish_reason`. A stream that ended cleanly without one was cut short
 *   (a proxy's timeout, a provider closing early), and storing it would replay half an answer for a TTL.
 *   An empty stream is not whole either.
 * - a completion is whole when every choice has a `finish_reason`.
 * Results of other shapes (a method that returns only the text, or chunks mapped to strings) cannot be
 * judged, and count as whole.
 * @example isWholeChatResult([{ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }]) // false
 */
export function isWholeChatResult(result: unknown): boolean {
  if (Array.isArray(result)) return isWholeStream(result);
  const choices = choicesOf(result);
  return choices === undefined || choices.every(hasFinishReason);
}

function isWholeStream(chunks: readonly unknown[]): boolean {
  if (chunks.length === 0) return false;
  let chat = false;
  // Per choice index: whether a chunk with its finish_reason came.
  const finished = new Map<number, boolean>();
  for (const chunk of chunks) {
    const choices = choicesOf(chunk);
    if (choices === undefined) continue;
    chat = true;
    for (const choice of choices) {
      const index = (choice as { index?: unknown } | null)?.index;
      const key = typeof index === 'number' ? index : 0;
      finished.set(key, finished.get(key) === true || hasFinishReason(choice));
    }
  }
  if (!chat) return true;
  return finished.size > 0 && [...finished.values()].every(Boolean);
}

function choicesOf(value: unknown): readonly unknown[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const choices = (value as { choices?: unknown }).choices;
  return Array.isArray(choices) ? choices : undefined;
}

function hasFinishReason(choice: unknown): boolean {
  if (choice === null || typeof choice !== 'object') return false;
  const reason = (choice as { finish_reason?: unknown }).finish_reason;
  return typeof reason === 'string' && reason.length > 0;
}
