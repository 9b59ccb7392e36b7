import { hash } from 'node:crypto';

/**
 * SHA-256 of the canonical text, base64url (43 characters, 256 bits). A cryptographic hash, not a fast
 * 32/64-bit one, because arguments are often user-controlled prompts: with a weak hash an attacker could
 * craft a prompt whose key collides with a popular question and plant an answer for everyone who asks it.
 */
export function digest(canonical: string): string {
  return hash('sha256', canonical, 'base64url');
}
