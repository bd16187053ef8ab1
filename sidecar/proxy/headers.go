package proxy

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// Header names, in fasthttp's canonical form.
var (
	hdrConnection = []byte("Connection")
	hdrXFF        = []byte("X-Forwarded-For")
	hdrXFProto    = []byte("X-Forwarded-Proto")
	hdrXFHost     = []byte("X-Forwarded-Host")
	hdrAccept     = []byte("Accept")
	valHTTP       = []byte("http")
	commaSpace    = []byte(", ")
)

// hopByHop are the headers of one connection (RFC 9110 §7.6.1), never
// forwarded in either direction; headers named in Connection are dropped
// too, and so is every Proxy-* header.
var hopByHop = [][]byte{
	[]byte("Connection"), []byte("Keep-Alive"), []byte("Te"), []byte("Trailer"),
	[]byte("Transfer-Encoding"), []byte("Upgrade"),
}

// requestOnly are request headers the proxy sets itself (Host, framing,
// forwarding) or that make no sense once the body has been read (Expect).
var requestOnly = [][]byte{
	[]byte("Host"), []byte("Content-Length"), []byte("Expect"),
	hdrXFF, hdrXFProto, hdrXFHost,
}

// responseOnly are response headers the sidecar's server writes itself.
var responseOnly = [][]byte{[]byte("Content-Length"), []byte("Date")}

var proxyPrefix = []byte("Proxy-")

// dropped reports whether header k is not forwarded: hop-by-hop, a
// Proxy-* header, one of extra, or named in the Connection value conn.
func dropped(k, conn []byte, extra [][]byte) bool {
	if len(k) >= len(proxyPrefix) && bytes.EqualFold(k[:len(proxyPrefix)], proxyPrefix) {
		return true
	}
	for _, h := range hopByHop {
		if bytes.EqualFold(k, h) {
			return true
		}
	}
	for _, h := range extra {
		if bytes.EqualFold(k, h) {
			return true
		}
	}
	for len(conn) > 0 {
		var tok []byte
		tok, conn, _ = bytes.Cut(conn, []byte{','})
		if bytes.EqualFold(bytes.TrimSpace(tok), k) {
			return true
		}
	}
	return false
}

// copyRequestHeaders copies the end-to-end headers of src to dst and sets
// X-Forwarded-For (the client's chain plus clientIP), X-Forwarded-Proto
// and X-Forwarded-Host (the Host the client used). Host is left to the
// caller.
func copyRequestHeaders(dst, src *fasthttp.RequestHeader, clientIP []byte) {
	dst.SetNoDefaultContentType(true)
	conn := src.PeekBytes(hdrConnection)
	for k, v := range src.All() {
		if !dropped(k, conn, requestOnly) {
			dst.AddBytesKV(k, v)
		}
	}
	if prev := src.PeekBytes(hdrXFF); len(prev) > 0 {
		dst.SetCanonical(hdrXFF, append(append(append(make([]byte, 0, len(prev)+2+len(clientIP)), prev...), commaSpace...), clientIP...))
	} else {
		dst.SetCanonical(hdrXFF, clientIP)
	}
	dst.SetCanonical(hdrXFProto, valHTTP)
	if host := src.Host(); len(host) > 0 {
		dst.SetCanonical(hdrXFHost, host)
	}
}

// copyResponseHeaders copies the end-to-end headers of an agent's
// response src to dst.
func copyResponseHeaders(dst, src *fasthttp.ResponseHeader) {
	conn := src.PeekBytes(hdrConnection)
	for k, v := range src.All() {
		if !dropped(k, conn, responseOnly) {
			dst.AddBytesKV(k, v)
		}
	}
}
