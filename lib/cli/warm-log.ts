import { readFile } from 'node:fs/promises';
import { assertNamespace } from '../core/validate';
import type { ChatRequest } from '../llm';
import { CliError, EXIT } from './cli-error';

/**
 * One line of a warm log: a chat call a service made, as JSON on one line.
 * `{ "namespace": "support", "method": "Assistant.complete", "tenant": "acme", "request": { "model": ..., "messages": [...] } }`
 */
export interface WarmLogLine {
  /** The namespace of the service's `@Cached` method. */
  readonly namespace: string;
  /** The method's name in keys and stats, `Class.method`. @default 'ChatClient.complete' */
  readonly method: string;
  /** The tenant the service's `chatKeyPolicy` gives the call; absent for `tenant: false` (shared entries). */
  readonly tenant: string | undefined;
  /** The OpenAI-compatible chat request. */
  readonly request: ChatRequest;
}

const FIELDS = ['namespace', 'method', 'tenant', 'request'];

/** Reads a JSONL warm log; blank lines are skipped. A {@link CliError} (exit code 2) names the first bad line. */
export async function readWarmLog(path: string): Promise<WarmLogLine[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read the warm log ${path}: ${(error as Error).message}`, EXIT.usage);
  }
  const lines: WarmLogLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const bad = (why: string) => new CliError(`${path}:${i + 1}: ${why}`, EXIT.usage);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw bad(`not JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('expected a JSON object');
    const line = parsed as Record<string, unknown>;
    const unknown = Object.keys(line).filter((field) => !FIELDS.includes(field));
    if (unknown.length > 0)
      throw bad(`unknown field ${unknown.map((f) => `\`${f}\``).join(', ')}; expected ${FIELDS.join(', ')}`);
    try {
      assertNamespace('namespace', line.namespace);
    } catch (error) {
      throw bad((error as Error).message);
    }
    const method = line.method ?? 'ChatClient.complete';
    if (typeof method !== 'string' || method === '' || /\s|:/.test(method))
      throw bad(`expected \`method\` to be a name such as Assistant.complete, got ${JSON.stringify(method)}`);
    if (line.tenant !== undefined && (typeof line.tenant !== 'string' || line.tenant === ''))
      throw bad(`expected \`tenant\` to be a non-empty string or absent, got ${JSON.stringify(line.tenant)}`);
    const request = line.request as Partial<ChatRequest> | undefined;
    if (
      typeof request !== 'object' ||
      request === null ||
      typeof request.model !== 'string' ||
      !Array.isArray(request.messages)
    )
      throw bad('expected `request` to be a chat request with `model` and `messages`');
    lines.push({
      namespace: line.namespace,
      method,
      tenant: line.tenant as string | undefined,
      request: request as ChatRequest,
    });
  });
  return lines;
}
