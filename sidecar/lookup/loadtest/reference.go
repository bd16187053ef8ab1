package loadtest

import "github.com/valyala/fasthttp"

// Reference returns the handler of the reference server: it answers every
// request with status 200, the given headers (name, value pairs) and body,
// doing nothing else. body and headers must not be modified afterwards.
func Reference(body []byte, headers ...[2]string) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		for _, h := range headers {
			ctx.Response.Header.Set(h[0], h[1])
		}
		ctx.Response.SetBodyRaw(body)
	}
}
