// Errors of the simulator's own making (the Modbus answers it gives are not errors: they are data).
import { GridkeeperError } from '../errors.js';

/** A server of the simulator could not be started: TCP port in use or not bindable, serial path missing. */
export class SimulatorBindError extends GridkeeperError {
  readonly code = 'BIND_FAILED';
  /** Another process may release the port or plug in the adapter: trying again later can help. */
  readonly retryable = true;
  readonly bus: string;
  /** `host:port` of a TCP bus or the serial path of an RTU bus. */
  readonly address: string;

  constructor(bus: string, address: string, detail: string, options?: { cause?: unknown }) {
    super(`bus ${bus}: cannot listen on ${address}: ${detail}`, options);
    this.bus = bus;
    this.address = address;
  }
}

/**
 * A SunSpec device description the simulator cannot serve (a value for a point its models do not
 * have, a model without a definition, a chain past register 65535): a bug in the description, not a
 * fault the simulated device shows.
 */
export class SunSpecImageError extends GridkeeperError {
  readonly code = 'SUNSPEC_IMAGE_INVALID';
  readonly retryable = false;
}
