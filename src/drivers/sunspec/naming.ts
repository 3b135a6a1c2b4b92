// Published names of SunSpec points (CONTRACT.md section 6): `m<model>_` and then, for each group
// on the way from the model to the point, the 1-based instance number of a repeating group or the
// name of a group that occurs once, and last the point's own name.
//   m103_W            model 103, top-level point W
//   m160_2_DCW        model 160, point DCW of the second `module` (a repeating group)
//   m704_PFWInj_PF    model 704, point PF of the group PFWInj (occurs once)
import { isRepeating, type GroupDef } from './types.js';

/** One step from a model to a point: a group's name, or a repeating group's 1-based instance number. */
export type NameSegment = string | number;

export function sunspecPointName(model: number, path: readonly NameSegment[], point: string): string {
  return [`m${model}`, ...path, point].join('_');
}

/** What a group contributes to the names of its points; `instance` is 1-based. */
export function groupSegment(group: GroupDef, instance: number): NameSegment {
  return isRepeating(group) ? instance : group.name;
}
