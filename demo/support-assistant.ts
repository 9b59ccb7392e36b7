import { Cached } from '../lib';
import type { Lang } from './questions';
import type { Model, SimulatedProvider, Usage } from './simulated-provider';

export const MODEL: Model = 'gpt-4o-mini';

export const LANGUAGE_NAMES: Record<Lang, string> = { en: 'English', de: 'German', fr: 'French' };

/** Fixed for every call, as in most support bots: persona, rules and the facts the model may use. */
export const SYSTEM_PROMPT = `You are Flo, the support assistant of Flowboard, a project-management tool for teams.
Answer in the user's language, in at most six short sentences, friendly and precise.
Only use the facts below; if they do not cover the question, say so and offer to open a ticket.
Never promise refunds, discounts or deadlines that the facts do not state.

Facts:
- Plans: Free (up to 5 members), Pro ($8 per member per month), Business ($16, adds SSO, audit log, DPA).
- Billing: monthly or yearly by card; yearly Business customers can pay by invoice. Invoices are under
  Settings > Billing. Refunds: within 14 days of a yearly purchase, pro rata, on request to support.
- Accounts: password reset from the sign-in page; 2FA under Profile > Security; deleting an account
  removes its data after 30 days. Workspace owners can transfer ownership under Settings > Members.
- Data: stored in the EU (Frankfurt) and encrypted at rest and in transit; GDPR compliant; exports to
  CSV and JSON under Settings > Export; deleted projects can be restored for 30 days.
- Integrations: Slack, GitHub, Google Calendar, Zapier; REST API with 100 requests per minute per token;
  webhooks under Settings > Developers. Imports from Trello, Asana and CSV.
- Apps: web, iOS, Android, macOS, Windows. The interface speaks English, German and French.
- Support: chat and email, 9:00 to 18:00 CET on weekdays; status page at status.flowboard.example.`;

/** The model's answer plus what it used, so that callers can price every answer, cached or not. */
export interface Answer {
  readonly text: string;
  readonly model: Model;
  readonly usage: Usage;
}

/**
 * Answers users' questions with a paid model. Identical questions in the same language within ten
 * minutes share one answer, and identical questions asked at the same time share one model call.
 */
export class SupportAssistant {
  constructor(private readonly provider: SimulatedProvider) {}

  // The key is the arguments (question and options), nothing else: the model and the system prompt are
  // constants, so they need not be in it. Were the model a constructor argument, `key` should add it.
  @Cached({ ttl: '10m' })
  async answer(question: string, options: { lang: Lang }): Promise<Answer> {
    const { text, usage } = await this.provider.complete({
      model: MODEL,
      system: SYSTEM_PROMPT,
      prompt: `Answer in ${LANGUAGE_NAMES[options.lang]}.\n\n${question}`,
      temperature: 0,
    });
    return { text, model: MODEL, usage };
  }
}
