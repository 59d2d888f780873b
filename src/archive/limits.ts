/** Bounds every upload is held to while it is normalised. */
export interface ArchiveLimits {
  maxEntries: number;
  /** Sum of the sizes of all files once expanded. */
  maxTotalBytes: number;
  maxFileBytes: number;
  /** Expanded bytes per compressed byte, checked once `ratioFloorBytes` have been expanded. */
  maxRatio: number;
  ratioFloorBytes: number;
  maxPathBytes: number;
  maxDepth: number;
}

/** The defaults of the contract: 20,000 entries, 1 GiB expanded. */
export const DEFAULT_LIMITS: ArchiveLimits = {
  maxEntries: 20_000,
  maxTotalBytes: 1024 ** 3,
  maxFileBytes: 512 * 1024 ** 2,
  maxRatio: 200,
  ratioFloorBytes: 16 * 1024 ** 2,
  maxPathBytes: 1024,
  maxDepth: 64,
};
