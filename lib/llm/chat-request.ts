/**
 * The OpenAI-compatible chat request (`POST /v1/chat/completions`), typed structurally so that requests
 * built for the official `openai` package, for other compatible providers, or by hand all fit. Only the
 * fields cachet reads are typed precisely; every object stays open (`[field: string]: unknown`) because
 * providers add fields faster than any type can follow.
 */

/** One part of a multi-part message content. Text parts are the ones prompt normalisation touches. */
export type ChatContentPart =
  | { readonly type: 'text'; readonly text: string; readonly [field: string]: unknown }
  | {
      readonly type: 'image_url';
      readonly image_url: { readonly url: string; readonly detail?: string };
      readonly [field: string]: unknown;
    }
  | { readonly type: string; readonly [field: string]: unknown };

/** A tool call the assistant asked for in an earlier turn. */
export interface ChatToolCall {
  readonly id: string;
  readonly type: 'function' | (string & {});
  readonly function: { readonly name: string; readonly arguments: string };
  readonly [field: string]: unknown;
}

/** The speaker of a message; `developer` is OpenAI's newer name for `system`. */
export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function' | (string & {});

/** One message of the conversation. */
export interface ChatMessage {
  readonly role: ChatRole;
  /** Plain text, a list of parts, or `null` for an assistant turn that only calls tools. */
  readonly content?: string | readonly ChatContentPart[] | null;
  readonly name?: string;
  readonly tool_calls?: readonly ChatToolCall[];
  readonly tool_call_id?: string;
  readonly [field: string]: unknown;
}

/** A tool the model may call. */
export interface ChatTool {
  readonly type: 'function' | (string & {});
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: Readonly<Record<string, unknown>>;
    readonly strict?: boolean;
  };
  readonly [field: string]: unknown;
}

/**
 * A chat completion request. Fields are as OpenAI documents them; absent fields mean "the provider's
 * default", which cachet never guesses (see {@link chatKeyPolicy}).
 */
export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  /** Sampling temperature, 0..2. OpenAI's default is 1, so an absent temperature samples. */
  readonly temperature?: number | null;
  readonly top_p?: number | null;
  readonly max_tokens?: number | null;
  readonly max_completion_tokens?: number | null;
  readonly stop?: string | readonly string[] | null;
  readonly tools?: readonly ChatTool[];
  readonly tool_choice?: 'none' | 'auto' | 'required' | { readonly type: string; readonly [field: string]: unknown };
  readonly parallel_tool_calls?: boolean;
  readonly response_format?: { readonly type: string; readonly [field: string]: unknown };
  /** Asks the provider for reproducible sampling (best effort). */
  readonly seed?: number | null;
  /** How many choices to generate. */
  readonly n?: number | null;
  readonly presence_penalty?: number | null;
  readonly frequency_penalty?: number | null;
  readonly logit_bias?: Readonly<Record<string, number>> | null;
  readonly logprobs?: boolean | null;
  readonly top_logprobs?: number | null;
  readonly reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | (string & {});
  readonly user?: string;
  readonly stream?: boolean | null;
  readonly stream_options?: { readonly include_usage?: boolean; readonly [field: string]: unknown } | null;
  readonly metadata?: Readonly<Record<string, string>> | null;
  readonly store?: boolean | null;
  readonly [field: string]: unknown;
}
