package awsfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// authError is why a request's signature was refused.
type authError struct {
	unknownKey bool
	msg        string
}

// verifySigV4 checks r's Authorization header for service in us-east-1
// against the known secrets, by signing a copy of the request (only the
// headers the client signed, the same time and payload) with the AWS
// SDK's own signer and comparing the signatures.
func verifySigV4(r *http.Request, body []byte, service string, secrets map[string]string) (keyID string, _ *authError) {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return "", &authError{msg: "Missing Authentication Token"}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "", &authError{msg: "Authorization header requires a valid Credential"}
	}
	keyID = scope[0]
	secret, ok := secrets[keyID]
	if !ok {
		return keyID, &authError{unknownKey: true, msg: "The security token included in the request is invalid."}
	}
	if scope[2] != "us-east-1" || scope[3] != service {
		return keyID, &authError{msg: fmt.Sprintf("Credential should be scoped to a valid region and service %s, not %s/%s", service, scope[2], scope[3])}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || when.Format("20060102") != scope[1] {
		return keyID, &authError{msg: "X-Amz-Date is missing or does not match the credential scope"}
	}
	if d := time.Since(when); d > 15*time.Minute || d < -15*time.Minute {
		return keyID, &authError{msg: "Signature expired"}
	}

	replay, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return keyID, &authError{msg: "unparseable request"}
	}
	replay.ContentLength = int64(len(body))
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		for _, v := range r.Header.Values(h) {
			replay.Header.Add(h, v)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, replay, hex.EncodeToString(sum[:]), service, "us-east-1", when); err != nil {
		return keyID, &authError{msg: "cannot recompute the signature"}
	}
	want := replay.Header.Get("Authorization")
	if want != auth {
		return keyID, &authError{msg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return keyID, nil
}
