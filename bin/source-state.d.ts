/** The folders tsconfig.build.json compiles. */
export declare const SOURCE_DIRS: readonly string[];
/** The newest mtime of the .ts files under `root`'s source folders, and a digest of their paths. */
export declare function sourceState(root: string): { newestMs: number; pathsDigest: string };
