// The parts of the `matomo-tracker` npm client (plain JavaScript, no types of its own) the tests use.
declare module 'matomo-tracker' {
  import { EventEmitter } from 'node:events';

  type TrackingParameters = Record<string, string | number>;

  export default class MatomoTracker extends EventEmitter {
    constructor(siteId: number, trackerUrl: string, noURLValidation?: boolean);
    track(options: string | TrackingParameters): void;
    trackBulk(events: TrackingParameters[], callback?: (body: string) => void): void;
  }
}
