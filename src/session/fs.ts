/** SessionFs: the file operations on torrent data the session makes (remove, move, rename); node-fs.ts is the real one. */
export interface SessionFs {
  /** Does the path exist (file or directory)? */
  exists(path: string): Promise<boolean>;
  /** Remove a file; a missing one is fine. */
  removeFile(path: string): Promise<void>;
  /** Remove a directory if it is empty; false when it is not empty or missing. */
  removeEmptyDir(path: string): Promise<boolean>;
  /** Move a file or directory to `to` (its parent made as needed); across file systems: copy, then remove. */
  move(from: string, to: string): Promise<void>;
}
