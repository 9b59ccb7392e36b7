/**
 * Fields that never change the answer, with the reason shown by {@link explainKey}. Every other field is
 * part of the key, including fields cachet has never heard of: a missed hit costs money, a wrong hit
 * returns someone else's answer, so unknown means "include".
 */
export const CHAT_IGNORED_FIELDS: Readonly<Record<string, string>> = {
  stream: 'transport only: the same answer, whole or in chunks',
  stream_options: 'transport only: what a stream carries besides the answer',
  user: "end-user id for the provider's abuse monitoring (use `tenant` to separate users)",
  safety_identifier: "end-user id for the provider's abuse monitoring",
  metadata: "labels for the provider's dashboards",
  store: 'whether the provider keeps a copy of the completion',
  prompt_cache_key: "routing hint for the provider's own prompt cache",
  timeout: 'transport only',
  request_id: 'transport only',
  signal: 'cancellation only',
};

/** Known answer-changing fields, for readable explanations; unknown fields are included too. */
export const ANSWER_FIELDS: Readonly<Record<string, string>> = {
  model: 'the model',
  messages: 'the conversation, system prompt included',
  temperature: 'sampling',
  top_p: 'sampling',
  seed: 'sampling',
  n: 'number of choices',
  max_tokens: 'answer length',
  max_completion_tokens: 'answer length',
  stop: 'where the answer ends',
  tools: 'tools offered',
  tool_choice: 'tools offered',
  parallel_tool_calls: 'tools offered',
  functions: 'tools offered',
  function_call: 'tools offered',
  response_format: 'answer format',
  presence_penalty: 'sampling',
  frequency_penalty: 'sampling',
  logit_bias: 'sampling',
  logprobs: 'answer content',
  top_logprobs: 'answer content',
  reasoning_effort: 'reasoning',
  modalities: 'answer format',
  audio: 'answer format',
  prediction: 'answer content',
  verbosity: 'answer length',
};
