// The Express 4 install that express4.test.ts mounts the router in, typed with the Express types
// the router compiles against (the two share the API the router uses).
declare module 'express4' {
  import express from 'express';
  export default express;
}
