// An agent and the plain loop measured in the same window, reading the same devices at the same time:
// both see the same machine (the load of other work on a shared machine changes from minute to
// minute), so their CPU is compared under equal conditions.
import type { ChildHandle } from '../devtools/processes.js';
import { measureAgentWindow, type AgentWindow } from './agent-window.js';
import type { LoopResult, PlainLoop } from './plain-loop-run.js';
import type { CpuUse } from './proc.js';

export interface SideBySide {
  agent: AgentWindow;
  loop: LoopResult;
  /** CPU of the other processes watched over the window, by label. */
  others: Record<string, CpuUse>;
}

export async function measureSideBySide(
  agent: ChildHandle,
  httpPort: number,
  loop: PlainLoop,
  windowMs: number,
  others: { label: string; pid: number }[] = [],
): Promise<SideBySide> {
  const mark = loop.mark();
  const window = await measureAgentWindow(agent, httpPort, windowMs, [{ label: 'plain loop', pid: loop.pid }, ...others]);
  const { ['plain loop']: loopCpu, ...rest } = window.others;
  if (loopCpu === undefined) throw new Error('unreachable: the loop was watched');
  return { agent: window, loop: await loop.result(mark, loopCpu), others: rest };
}
