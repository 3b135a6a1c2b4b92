// Typed errors of SunSpec support. Two kinds: a model definition file of the package that cannot be
// used (a packaging bug: the message names file, line and key), and registers from a device that do
// not fit the model they claim to be (the message names the model and what was expected).
import { GridkeeperError } from '../../errors.js';
import { formatProblem, sortProblems, type ConfigProblem } from '../../config/errors.js';

/** A file of sunspec/models/ is broken. Never retryable: the file has to be fixed. Holds every problem found. */
export class ModelDefinitionError extends GridkeeperError {
  readonly code = 'SUNSPEC_MODEL_INVALID';
  readonly retryable = false;
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const sorted = sortProblems(problems);
    const first = sorted[0];
    const more = sorted.length > 1 ? ` (and ${sorted.length - 1} more)` : '';
    super(first === undefined ? 'invalid SunSpec model definition' : `invalid SunSpec model definition: ${formatProblem(first)}${more}`);
    this.problems = sorted;
  }
}

export type SunSpecDataErrorCode =
  | 'LENGTH_MISMATCH' // the length the device reports does not fit the model's definition
  | 'ADDRESS_OVERFLOW' // the model would run past register 65535
  | 'COUNT_INVALID' // a count point is not implemented, or its value does not fit the length
  | 'SCALE_FACTOR_OUT_OF_RANGE' // a sunssf value outside -10..10
  | 'HEADER_MISMATCH' // the model's ID and L registers are not what discovery found (firmware changed?)
  | 'SHORT_REGISTERS' // fewer registers than the model instance needs were handed to the decoder
  | 'NOT_SUNSPEC' // the device answers, but no "SunS" marker where one was looked for
  | 'CHAIN_LOOP' // the model chain does not end: the marker comes round again, or too many models
  | 'DEVICE_NOT_IN_CHAIN' // the chain has fewer devices than `sunspec.index` asks for
  | 'MODEL_MISSING'; // a model the config requires (`sunspec.models`) is not on the device

/**
 * Registers from a device that do not fit the SunSpec model they belong to, or a model chain that
 * is not what it must be. Not retryable as such: the same registers give the same error (a new
 * discovery after a firmware update may, but that is the caller's decision).
 */
export class SunSpecDataError extends GridkeeperError {
  readonly code: SunSpecDataErrorCode;
  readonly retryable = false;
  /** The model id the registers were taken for; null for an error about the chain as a whole. */
  readonly model: number | null;

  constructor(code: SunSpecDataErrorCode, model: number | null, message: string) {
    super(message);
    this.code = code;
    this.model = model;
  }
}
