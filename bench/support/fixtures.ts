/** Realistic arguments and results of an LLM-backed service, shared by the scenarios. */
import { Cached, type Cache } from '../../lib';

/** What a chat model call returns, about 500 bytes as JSON. */
export interface Answer {
  readonly id: string;
  readonly model: string;
  readonly text: string;
  readonly finishReason: string;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number; readonly totalTokens: number };
  readonly createdAt: number;
}

export const ANSWER: Answer = {
  id: 'chatcmpl-AXk29fQe7Lw3mZr8TnB1cVd4',
  model: 'gpt-4o-mini-2024-07-18',
  text:
    'You can return any item within 30 days of delivery for a full refund to the original payment method. ' +
    'Items must be unused and in their original packaging. Start a return from Orders > Return an item; ' +
    'we email a prepaid label within one business day. Refunds are issued 3-5 business days after the ' +
    'warehouse receives the parcel.',
  finishReason: 'stop',
  usage: { promptTokens: 412, completionTokens: 96, totalTokens: 508 },
  createdAt: 1_732_233_600,
};

export const QUESTION = 'What is the refund policy?';

/** `n` distinct questions of realistic length; different `first` numbers give different questions. */
export function questions(n: number, first = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${QUESTION} (order #${100_000 + first + i}, asked from the help centre)`);
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: ChatMessage[];
  readonly temperature: number;
}

const WORDS = (
  'the customer asked about their order shipping refund policy account invoice delivery address payment ' +
  'card subscription plan upgrade cancel support ticket agent reply summary context previous message ' +
  'product warranty return label package warehouse tracking number estimate business days weekend ' +
  'discount code coupon price tax total receipt email notification settings language region currency'
).split(' ');

/** A deterministic pseudo-random generator (mulberry32), so every run hashes the same text. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function prose(next: () => number, chars: number): string {
  let text = '';
  while (text.length < chars) text += (text ? ' ' : '') + WORDS[Math.floor(next() * WORDS.length)];
  return text + '.';
}

/** A chat completion request whose JSON is about 10 KB; each `seed` gives different text. */
export function chatRequest(seed: number): ChatRequest {
  const next = random(seed + 1);
  const messages: ChatMessage[] = [{ role: 'system', content: prose(next, 1_200) }];
  for (let turn = 0; turn < 9; turn++) {
    messages.push({ role: 'user', content: prose(next, 350) });
    messages.push({ role: 'assistant', content: prose(next, 560) });
  }
  messages.push({ role: 'user', content: prose(next, 300) });
  // Through JSON, as a service receives a request body: `prose` builds each text word by word, and V8
  // keeps such strings as ropes until something flattens them, which no parsed request ever is.
  return JSON.parse(JSON.stringify({ model: 'gpt-4o-mini', messages, temperature: 0 })) as ChatRequest;
}

/** The service every hit scenario calls: one `@Cached` method answering FAQ questions on `cache`. */
export function faqService(cache: Cache): {
  calls: number;
  answer(question: string, options: { lang: string }): Promise<Answer>;
} {
  class Faq {
    calls = 0;
    @Cached({ cache })
    async answer(_question: string, _options: { lang: string }): Promise<Answer> {
      this.calls++;
      return ANSWER;
    }
  }
  return new Faq();
}
