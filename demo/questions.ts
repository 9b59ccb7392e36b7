import { seededRandom, weightedPick } from './random';

/**
 * The help widget of "Flowboard", an imaginary project-management SaaS, offers suggested questions, so
 * users send them verbatim. Most popular first: popularity falls off as in Zipf's law.
 */
export const FAQ = [
  'How do I reset my password?',
  'How do I invite teammates to my workspace?',
  'How do I cancel my subscription?',
  'Can I get a refund?',
  'How do I change my billing email?',
  'Where can I download my invoices?',
  'How do I export my data to CSV?',
  'What is the difference between the Pro and Business plans?',
  'How do I enable two-factor authentication?',
  'Why did my payment fail?',
  'How do I delete my account?',
  'Can I change my workspace URL?',
  'How do I connect Flowboard to Slack?',
  'Is there a free trial?',
  'How do I add a custom domain?',
  'Do you offer discounts for nonprofits?',
  'How do I transfer ownership of a workspace?',
  'Why am I not receiving email notifications?',
  'How do I import tasks from Trello?',
  'Is my data encrypted?',
  'Where are your servers located?',
  'Do you support single sign-on (SSO)?',
  'How do I set up recurring tasks?',
  'Can I restore a deleted project?',
  'How many members can a workspace have?',
  'How do I change the language of the app?',
  'Is there a mobile app?',
  'How do I use the API?',
  'What are the API rate limits?',
  'How do I create a webhook?',
  'Can I pay by invoice or bank transfer?',
  'Do you have a status page?',
  'How do I archive a project?',
  'Can guests see private projects?',
  'How do I set task dependencies?',
  'Are you GDPR compliant?',
  'How do I sign a data processing agreement (DPA)?',
  'Can I self-host Flowboard?',
  'How do I change the time zone of my workspace?',
  'What happens to my data when I downgrade?',
] as const;

/** Languages of the app's interface; the widget sends the user's, and answers come back in it. */
export const LANGS = ['en', 'de', 'fr'] as const;
export type Lang = (typeof LANGS)[number];
const LANG_SHARE = [0.75, 0.15, 0.1] as const;

export interface Request {
  readonly question: string;
  readonly lang: Lang;
}

export interface StreamOptions {
  /** How many requests. */
  readonly count: number;
  /** Zipf exponent: 1 is the classic law, higher concentrates traffic on the top questions. @default 1 */
  readonly exponent?: number;
  /** @default 42 */
  readonly seed?: number;
}

/** A repeatable stream of requests: questions drawn by Zipf popularity, each with its user's language. */
export function requestStream({ count, exponent = 1, seed = 42 }: StreamOptions): Request[] {
  const random = seededRandom(seed);
  const popularity = FAQ.map((_, rank) => 1 / (rank + 1) ** exponent);
  return Array.from({ length: count }, () => ({
    question: FAQ[weightedPick(random, popularity)] as string,
    lang: LANGS[weightedPick(random, LANG_SHARE)] as Lang,
  }));
}
