import type { Agent } from 'undici';
import { assertKnownOptions, assertPlainObject, assertPositiveInteger, optionError } from '../core/validate';
import type { CostLedger } from '../ports/cost-ledger';
import { normalised, type Embedder } from '../semantic/embedder';
import { resolveChatClientOptions, type ChatClientOptions } from './chat-client-options';
import { ProviderError, errorFromResponse, plainHeaders } from './provider-error';
import { loadUndici, providerPool } from './undici';

/**
 * Options of an {@link EmbeddingsClient}: the connection options of a `ChatClient`, plus the model.
 * @example
 * const options: EmbeddingsClientOptions = { baseURL: 'https://api.openai.com/v1', model: 'text-embedding-3-small', dimensions: 1536 };
 */
export interface EmbeddingsClientOptions extends ChatClientOptions {
  /** The embedding model, e.g. `text-embedding-3-small`. Required. */
  readonly model?: string;
  /** Length of the vectors the model returns (sent as `dimensions` when `sendDimensions`). Required. */
  readonly dimensions?: number;
  /** Send `dimensions` in each request (models that can shorten their vectors). @default false */
  readonly sendDimensions?: boolean;
  /** Most texts in one request; more are split over several. @default 256 */
  readonly maxBatch?: number;
  /** Vectors kept in memory by exact text, so a text repeated is embedded once; 0 keeps none. @default 10000 */
  readonly cacheSize?: number;
  /** Where the embedding calls' tokens are recorded as spent (under `namespace`, `tenant`). @default none */
  readonly ledger?: CostLedger;
  /** The ledger's namespace for embedding calls. @default 'embeddings' */
  readonly namespace?: string;
  /** The ledger's tenant for embedding calls. @default '-' */
  readonly tenant?: string;
}

const OWN = ['model', 'dimensions', 'sendDimensions', 'maxBatch', 'cacheSize', 'ledger', 'namespace', 'tenant'];
const CONNECTION = ['baseURL', 'apiKey', 'connections', 'keepAliveTimeout', 'requestTimeout', 'headers'];

interface Pending {
  readonly text: string;
  readonly resolve: (vector: Float32Array) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * An {@link Embedder} over an OpenAI-compatible `POST /embeddings` endpoint, with its own connection
 * pool like `ChatClient`. Texts asked for in the same turn of the event loop, by any number of callers,
 * go out together (at most `maxBatch` per request); a text asked for again is answered from memory
 * (`cacheSize`); every vector comes back L2-normalised, so a dot product is the cosine. Failures are
 * `ProviderError`s, shaped for `@Retry` as the chat client's are.
 * @example
 * const embed = new EmbeddingsClient({ baseURL: 'https://api.openai.com/v1', model: 'text-embedding-3-small', dimensions: 1536 });
 * const [vector] = await embed.embed(['How do I reset my password?']);
 */
export class EmbeddingsClient implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Requests sent, texts sent in them, and texts answered from memory. */
  readonly counts = { requests: 0, texts: 0, cached: 0 };
  readonly #url: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #agent: Agent;
  readonly #sendDimensions: boolean;
  readonly #maxBatch: number;
  readonly #cacheSize: number;
  readonly #memo = new Map<string, Float32Array>();
  readonly #ledger: CostLedger | undefined;
  readonly #namespace: string;
  readonly #tenant: string;
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(options: EmbeddingsClientOptions) {
    assertPlainObject('options', options);
    assertKnownOptions('EmbeddingsClient', options, [...CONNECTION, ...OWN]);
    const { model, dimensions, sendDimensions = false, maxBatch = 256, cacheSize = 10_000 } = options;
    if (typeof model !== 'string' || model === '') throw optionError('model', 'a model name', model);
    assertPositiveInteger('dimensions', dimensions);
    assertPositiveInteger('maxBatch', maxBatch);
    if (!Number.isInteger(cacheSize) || cacheSize < 0)
      throw optionError('cacheSize', 'a non-negative integer', cacheSize);
    if (typeof sendDimensions !== 'boolean') throw optionError('sendDimensions', 'a boolean', sendDimensions);
    if (options.ledger !== undefined && typeof options.ledger.recordFill !== 'function')
      throw optionError('ledger', 'a CostLedger', options.ledger);
    const connection = Object.fromEntries(
      CONNECTION.filter((k) => k in options).map((k) => [k, options[k as 'baseURL']]),
    );
    const resolved = resolveChatClientOptions(connection);
    this.model = model;
    this.dimensions = dimensions as number;
    this.#url = `${resolved.origin}${resolved.completionsPath.replace(/\/chat\/completions$/, '/embeddings')}`;
    this.#headers = resolved.headers;
    this.#sendDimensions = sendDimensions;
    this.#maxBatch = maxBatch;
    this.#cacheSize = cacheSize;
    this.#ledger = options.ledger;
    this.#namespace = options.namespace ?? 'embeddings';
    this.#tenant = options.tenant ?? '-';
    this.#agent = providerPool(resolved);
  }

  /** One L2-normalised vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) return Promise.reject(optionError('texts', 'an array of strings', texts));
    return Promise.all(
      texts.map((text, i) => {
        if (typeof text !== 'string') return Promise.reject(optionError(`texts[${i}]`, 'a string', text));
        const known = this.#memo.get(text);
        if (known !== undefined) {
          this.counts.cached++;
          return Promise.resolve(known);
        }
        return new Promise<Float32Array>((resolve, reject) => {
          this.#queue.push({ text, resolve, reject });
          this.#schedule();
        });
      }),
    );
  }

  /** Closes the connection pool; later calls fail. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Everything asked for in this turn of the event loop goes out together.
    setImmediate(() => {
      this.#scheduled = false;
      const queue = this.#queue;
      this.#queue = [];
      // The same text asked twice in one turn is sent once.
      const byText = new Map<string, Pending[]>();
      for (const pending of queue) byText.set(pending.text, [...(byText.get(pending.text) ?? []), pending]);
      const texts = [...byText.keys()];
      for (let i = 0; i < texts.length; i += this.#maxBatch) {
        const batch = texts.slice(i, i + this.#maxBatch);
        this.#request(batch).then(
          (vectors) =>
            batch.forEach((text, j) => {
              const vector = vectors[j] as Float32Array;
              this.#remember(text, vector);
              for (const pending of byText.get(text) ?? []) pending.resolve(vector);
            }),
          (error: unknown) => batch.forEach((text) => byText.get(text)?.forEach((pending) => pending.reject(error))),
        );
      }
    });
  }

  async #request(texts: string[]): Promise<Float32Array[]> {
    const body: Record<string, unknown> = { model: this.model, input: texts, encoding_format: 'float' };
    if (this.#sendDimensions) body.dimensions = this.dimensions;
    this.counts.requests++;
    this.counts.texts += texts.length;
    let response;
    try {
      response = await loadUndici().request(this.#url, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: this.#headers,
        body: JSON.stringify(body),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError(`Provider request failed: ${message}`, { cause: error });
    }
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw errorFromResponse(response.statusCode, plainHeaders(response.headers), text);
    }
    const parsed = parseEmbeddings(text, texts.length, this.dimensions);
    if (this.#ledger !== undefined && parsed.promptTokens !== undefined) {
      this.#ledger.recordFill({
        namespace: this.#namespace,
        tenant: this.#tenant,
        model: this.model,
        usage: { prompt_tokens: parsed.promptTokens, completion_tokens: 0 },
      });
    }
    return parsed.vectors;
  }

  #remember(text: string, vector: Float32Array): void {
    if (this.#cacheSize === 0) return;
    if (this.#memo.size >= this.#cacheSize) this.#memo.delete(this.#memo.keys().next().value as string);
    this.#memo.set(text, vector);
  }
}

/**
 * The vectors of an embeddings response, in input order and L2-normalised; a response of the wrong
 * shape (not JSON, a missing index, a vector of another length) is a `ProviderError`, never a wrong vector.
 */
export function parseEmbeddings(
  text: string,
  count: number,
  dimensions: number,
): { vectors: Float32Array[]; promptTokens: number | undefined } {
  let body: { data?: { index?: unknown; embedding?: unknown }[]; usage?: { prompt_tokens?: unknown } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch (error) {
    throw new ProviderError('Provider answered 200 with a body that is not JSON', { cause: error });
  }
  if (!Array.isArray(body?.data) || body.data.length !== count) {
    throw new ProviderError(
      `Expected ${count} embeddings in \`data\`, got ${JSON.stringify(body?.data)?.slice(0, 200)}`,
    );
  }
  const vectors = new Array<Float32Array>(count);
  for (const item of body.data) {
    const index = item.index;
    const embedding = item.embedding;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || vectors[index]) {
      throw new ProviderError(`Expected each embedding to have a distinct index below ${count}, got ${String(index)}`);
    }
    if (!Array.isArray(embedding) || embedding.length !== dimensions || embedding.some((x) => typeof x !== 'number')) {
      throw new ProviderError(
        `Expected embedding ${index} to be ${dimensions} numbers, got ${Array.isArray(embedding) ? `${embedding.length} items` : typeof embedding}`,
      );
    }
    vectors[index] = normalised(embedding as number[]);
  }
  const tokens = body.usage?.prompt_tokens;
  return { vectors, promptTokens: typeof tokens === 'number' ? tokens : undefined };
}
