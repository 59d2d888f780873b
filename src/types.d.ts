declare module '*.sql' {
  const text: string;
  export default text;
}

declare module 'better-sqlite3/linux-x64' {
  import Database from 'better-sqlite3';
  export default Database;
}

declare module '*/standalone.js' {
  const text: string;
  export default text;
}

declare module '*.node' {
  /** The file's path (an import `with { type: 'file' }`). */
  const path: string;
  export default path;
}

declare module '*.css' {
  const text: string;
  export default text;
}
