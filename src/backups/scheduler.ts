import type { Logger } from '../log.ts';
import { nextRun, type Schedule } from './schedule.ts';
import { SCHEDULER, type BackupService } from './service.ts';

/**
 * Runs backups on SLIPWAY_BACKUP_SCHEDULE until stopped: each run waits for the next due time
 * after the previous run ended, so a slow backup is never started twice. A failed run is already
 * recorded (activity, log, /metrics) by the service; the schedule goes on. Returns what stops it.
 */
export function startBackupSchedule(backups: BackupService, schedule: Schedule, log: Logger): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const plan = () => {
    const next = nextRun(schedule, new Date());
    if (!next || stopped) return;
    timer = setTimeout(run, Math.max(0, next.getTime() - Date.now()));
  };
  const run = async () => {
    await backups
      .create(SCHEDULER, 'schedule')
      .catch((err) => log.warn('scheduled backup failed', { error: String(err) }));
    plan();
  };
  plan();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
