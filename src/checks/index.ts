// The registry: one module per rule, in the order their findings are documented.

import { agentGateDisabled } from './agentGateDisabled';
import { agentOutputLeak } from './agentOutputLeak';
import { agentReadsUntrusted } from './agentReadsUntrusted';
import { aiOutputUnsafe } from './aiOutputUnsafe';
import type { Check } from './context';
import { poisonedWorkspace } from './poisonedWorkspace';
import { promptInjection } from './promptInjection';
import { templateInjection } from './templateInjection';
import { untrustedCheckout } from './untrustedCheckout';
import { untrustedInstructions } from './untrustedInstructions';
import { unresolvedRemote } from './unresolvedRemote';

export const CHECKS: Check[] = [promptInjection, agentReadsUntrusted, untrustedInstructions, agentGateDisabled, aiOutputUnsafe, templateInjection, untrustedCheckout, poisonedWorkspace, agentOutputLeak, unresolvedRemote];

/** Every rule id, for validating ignores and severity overrides. */
export const RULE_IDS: readonly string[] = CHECKS.map((c) => c.meta.id);

export type { Check, CheckContext } from './context';
