// admission-floor: the least an HTTPS admission webhook can do on this machine, for bench/admission to measure
// mirrorhook against in the same run. It speaks HTTP/2 over TLS with the same settings as `mirrorhook serve`
// (TLS 1.2 minimum, HTTP/1.1 allowed, the same certificate), reads each request body in full and answers with a
// canned AdmissionReview: the bytes mirrorhook answered for the same review, so both send the same response.
// No decision, no JSON parsing, no logging: what is left is TLS, HTTP/2 framing and the kernel.
//
//	admission-floor -listen 127.0.0.1:PORT -cert tls.crt -key tls.key -response response.json
package main

import (
	"crypto/tls"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8443", "address to listen on")
	certFile := flag.String("cert", "", "serving certificate (PEM)")
	keyFile := flag.String("key", "", "its private key (PEM)")
	responseFile := flag.String("response", "", "the AdmissionReview to answer every POST with")
	flag.Parse()

	response, err := os.ReadFile(*responseFile)
	if err != nil {
		log.Fatalf("admission-floor: %v", err)
	}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(response)
	}
	mux.HandleFunc("POST /mutate", answer)
	mux.HandleFunc("POST /audit", answer)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	})
	server := &http.Server{
		Addr:      *listen,
		Handler:   mux,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12},
	}
	log.Fatal(server.ListenAndServeTLS(*certFile, *keyFile))
}
