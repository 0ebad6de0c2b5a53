// The registry: one module per rule, in the order their findings are documented.

import { agentGateDisabled } from './agentGateDisabled';
import { agentReadsUntrusted } from './agentReadsUntrusted';
import { aiOutputUnsafe } from './aiOutputUnsafe';
import type { Check } from './context';
import { promptInjection } from './promptInjection';
import { templateInjection } from './templateInjection';
import { untrustedInstructions } from './untrustedInstructions';

export const CHECKS: Check[] = [promptInjection, agentReadsUntrusted, untrustedInstructions, agentGateDisabled, aiOutputUnsafe, templateInjection];

export type { Check, CheckContext } from './context';
