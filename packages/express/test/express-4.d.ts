// express 4 is installed under the alias `express-4` to test both majors; its API is the subset typed here.
declare module 'express-4' {
  import express from 'express'
  export default express
}
