import { hashText, seededRandom } from './random';

/**
 * A stand-in for a paid LLM API, in process and without network: it sleeps like a model, writes filler
 * text, counts tokens the way a bill does, and keeps the bill.
 */

/**
 * USD per 1,000 tokens. Illustrative, shaped like public list prices in late 2024 (gpt-4o-mini:
 * $0.15 / $0.60 per million tokens); check your provider's page before quoting them.
 */
export const PRICES = {
  'gpt-4o-mini': { input: 0.000_15, output: 0.000_6 },
  'gpt-4o': { input: 0.002_5, output: 0.01 },
} as const satisfies Record<string, { readonly input: number; readonly output: number }>;

export type Model = keyof typeof PRICES;

export interface CompletionRequest {
  readonly model: Model;
  readonly system: string;
  readonly prompt: string;
  readonly temperature: number;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface Completion {
  readonly text: string;
  readonly usage: Usage;
}

/** What calling `model` with this usage costs, in USD. */
export function priceOf(model: Model, usage: Usage): number {
  const price = PRICES[model];
  return (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1_000;
}

/** About 4 characters a token for English text, the usual rule of thumb. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const SENTENCES = [
  'You can change this under Settings, in the section of the same name.',
  'Only workspace owners and admins see this option.',
  'The change applies to every member of the workspace at once.',
  'If you are on the Free plan, upgrade to Pro first.',
  'It usually takes effect within a few minutes.',
  'Our help centre has a step-by-step guide with screenshots.',
  'Nothing is deleted, and you can undo it for 30 days.',
  'Your billing admin receives a confirmation email afterwards.',
  'The mobile apps follow the same steps from the profile menu.',
  'If anything looks wrong, contact support from the chat bubble and we will check your account.',
] as const;

export interface SimulatedProviderOptions {
  /** Shortest and longest time a completion takes, in ms. @default [250, 600] */
  readonly latencyMs?: readonly [number, number];
  /** Seed of every random draw. @default 7 */
  readonly seed?: number;
}

export class SimulatedProvider {
  readonly #latencyMs: readonly [number, number];
  readonly #seed: number;
  #calls = 0;
  #costUsd = 0;

  constructor(options: SimulatedProviderOptions = {}) {
    this.#latencyMs = options.latencyMs ?? [250, 600];
    this.#seed = options.seed ?? 7;
  }

  /** Completions requested so far. */
  get calls(): number {
    return this.#calls;
  }

  /** What those completions cost, in USD. */
  get costUsd(): number {
    return this.#costUsd;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const call = ++this.#calls;
    // Draws depend on the request, not on call order, so concurrent runs stay repeatable; above
    // temperature 0 the call number joins the seed and the same prompt gets a different answer.
    const salt = request.temperature > 0 ? `#${call}` : '';
    const random = seededRandom(this.#seed ^ hashText(request.model + request.system + request.prompt + salt));
    const [fastest, slowest] = this.#latencyMs;
    await new Promise((resolve) => setTimeout(resolve, fastest + random() * (slowest - fastest)));

    const pool: string[] = [...SENTENCES];
    const count = 3 + Math.floor(random() * 6);
    const text = Array.from({ length: count }, () => pool.splice(Math.floor(random() * pool.length), 1)[0]).join(' ');
    const usage = {
      promptTokens: estimateTokens(request.system) + estimateTokens(request.prompt),
      completionTokens: estimateTokens(text),
    };
    this.#costUsd += priceOf(request.model, usage);
    return { text, usage };
  }
}
