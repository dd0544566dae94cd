// koa 2 is installed under the alias `koa-2` to test both majors; its API is the subset typed here.
declare module 'koa-2' {
  import Koa from 'koa'
  export default Koa
}
