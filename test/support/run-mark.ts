import { RUN_MARK } from './global-setup.ts';

/** For a child whose environment a test builds itself: the mark that lets the run find it if it is left behind. */
export function testRunMark(): Record<string, string> {
  const mark = process.env[RUN_MARK];
  return mark === undefined ? {} : { [RUN_MARK]: mark };
}
