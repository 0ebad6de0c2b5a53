// `agent-guard action <mode>`: what action.yml runs. Bad inputs print one line (and an error
// annotation) and fail the step; nothing here throws past this function.

import { ConfigError } from '../config';
import { actionLint } from './lint';
import { actionApply, actionRun, actionWrap } from './run';
import { type ActionContext, InputError, errorCommand, printable } from './runner';

export type { ActionContext } from './runner';

export const ACTION_MODES = ['lint', 'run', 'wrap', 'apply'] as const;

export async function actionMain(args: string[], ctx: ActionContext, self: { version: string; node: string; guard: string }): Promise<number> {
  const [mode, ...rest] = args;
  const fail = (message: string): number => {
    ctx.stderr.write(`agent-guard: ${message}\n`);
    ctx.stdout.write(errorCommand(message));
    return 2;
  };
  if (rest.length) return fail(`action ${mode} takes no arguments; it reads its INPUT_* variables`);
  try {
    switch (mode) {
      case 'lint':
        return actionLint(ctx, self.version);
      case 'run':
        return await actionRun(ctx);
      case 'wrap':
        return actionWrap(ctx, self);
      case 'apply':
        return await actionApply(ctx);
      default:
        return fail(`input 'mode' must be one of ${ACTION_MODES.join(', ')}, not '${printable(String(mode ?? ''))}'`);
    }
  } catch (err) {
    if (err instanceof InputError || err instanceof ConfigError) return fail(err.message);
    return fail(`internal error: ${(err as Error)?.message ?? String(err)}`);
  }
}
