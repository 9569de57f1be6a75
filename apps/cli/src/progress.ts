import cliProgress from 'cli-progress';

/** A progress bar on stderr for interactive terminals; silent when output is piped or scripted. */
export function progressBar(label: string): { update(done: number, total: number | undefined): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} MiB`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return {
    update(done, total) {
      if (!started) {
        bar.start(mib(total ?? 0), 0);
        started = true;
      }
      if (total !== undefined) bar.setTotal(mib(total));
      bar.update(mib(done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
