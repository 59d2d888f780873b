/** Settings of backups, webhooks and secrets. */
import { parseRetention, parseSchedule } from '../backups/schedule.ts';
import { parseBoolean, parseEnum, parsePath } from './parse.ts';
import { setting } from './setting.ts';

export const DATA_SETTINGS = [
  setting({
    key: 'backupDir',
    env: 'SLIPWAY_BACKUP_DIR',
    flag: 'backup-dir',
    default: '',
    description: 'Directory of local backups; <data-dir>/backups by default',
    parse: (raw) => (raw === '' ? null : parsePath(raw)),
  }),
  setting({
    key: 'backupSchedule',
    env: 'SLIPWAY_BACKUP_SCHEDULE',
    flag: 'backup-schedule',
    default: 'off',
    description: 'When backups run by themselves (UTC): off, daily@HH:MM, hourly@MM or every <n>s|m|h',
    parse: parseSchedule,
  }),
  setting({
    key: 'backupRetention',
    env: 'SLIPWAY_BACKUP_RETENTION',
    flag: 'backup-retention',
    default: 'daily=7,weekly=4',
    description:
      'Backups kept after each new one: the newest of each of the last N hours, days, weeks, and the last N (keys hourly, daily, weekly, last)',
    parse: parseRetention,
  }),
  setting({
    key: 'backupDestination',
    env: 'SLIPWAY_BACKUP_DESTINATION',
    flag: 'backup-destination',
    default: 'local',
    description: 'Where scheduled backups go: local (SLIPWAY_BACKUP_DIR) or s3 (SLIPWAY_BACKUP_S3_URL)',
    parse: parseEnum(['local', 's3'] as const),
  }),
  setting({
    key: 'backupS3',
    env: 'SLIPWAY_BACKUP_S3_URL',
    flag: 'backup-s3-url',
    default: '',
    description: 'Bucket and key prefix of the S3-compatible destination, s3://bucket/prefix',
    parse: (raw) => {
      if (raw === '') return null;
      const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([A-Za-z0-9!_.*'()/-]*))?$/.exec(raw);
      if (!m) throw new Error('expected s3://bucket or s3://bucket/prefix');
      return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
    },
  }),
  setting({
    key: 'backupS3Endpoint',
    env: 'SLIPWAY_BACKUP_S3_ENDPOINT',
    flag: 'backup-s3-endpoint',
    default: '',
    description: "The S3-compatible service's URL (MinIO, R2, Backblaze…); AWS S3 by default",
    parse: (raw) => {
      if (raw === '') return null;
      if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new Error('expected an http:// or https:// URL');
      return raw;
    },
  }),
  setting({
    key: 'backupS3Region',
    env: 'SLIPWAY_BACKUP_S3_REGION',
    flag: 'backup-s3-region',
    default: 'us-east-1',
    description: 'Region of the S3 destination',
    parse: (raw) => {
      if (!/^[a-z0-9-]{1,64}$/.test(raw)) throw new Error('expected a region such as us-east-1');
      return raw;
    },
  }),
  setting({
    key: 'backupS3AccessKeyId',
    env: 'SLIPWAY_BACKUP_S3_ACCESS_KEY_ID',
    flag: null,
    default: '',
    description: 'Access key id of the S3 destination',
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'backupS3SecretAccessKey',
    env: 'SLIPWAY_BACKUP_S3_SECRET_ACCESS_KEY',
    flag: null,
    default: '',
    description: 'Secret access key of the S3 destination',
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'backupPassphrase',
    env: 'SLIPWAY_BACKUP_PASSPHRASE',
    flag: null,
    default: '',
    description:
      'Seals backups with a key derived from this passphrase (scrypt) instead of from the master key; needed to restore them',
    parse: (raw) => {
      if (raw === '') return null;
      if (raw.length < 12) throw new Error('expected at least 12 characters');
      return raw;
    },
  }),
  setting({
    key: 'webhookAllowPrivate',
    env: 'SLIPWAY_WEBHOOK_ALLOW_PRIVATE',
    flag: 'webhook-allow-private',
    default: 'false',
    description:
      "true lets webhooks send to loopback, private, link-local and reserved addresses and the agent's own (a receiver on the same host or network)",
    parse: parseBoolean,
  }),
  setting({
    key: 'masterKey',
    env: 'SLIPWAY_MASTER_KEY',
    flag: null,
    default: '',
    description:
      'Base64 of the 32-byte key that encrypts secrets; else a systemd credential, else <data-dir>/master.key',
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'credentialsDirectory',
    env: 'CREDENTIALS_DIRECTORY',
    flag: null,
    default: '',
    description: "Set by systemd's LoadCredential=; Slipway reads slipway-master-key from it",
    parse: (raw) => (raw === '' ? null : raw),
  }),
];
