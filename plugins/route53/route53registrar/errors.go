package route53registrar

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// AWS error codes that mean the credentials were refused, across both
// services' protocols.
var authErrorCodes = map[string]bool{
	"UnrecognizedClientException": true, "InvalidClientTokenId": true, "InvalidSignatureException": true,
	"SignatureDoesNotMatch": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
	"AccessDeniedException": true, "AccessDenied": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"NotAuthorized": true, "InvalidAccessKeyId": true,
}

// mapError turns an AWS SDK error into a categorized SDK error. what names
// the call ("route53domains RegisterDomain"); AWS's own messages never
// carry the request's secrets, so they are kept for the operator.
func mapError(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	// A cancelled or expired call stays a context error, so the host sees
	// errors.Is(err, context.Canceled) and retries later.
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		// No answer from AWS at all: DNS, connection, TLS, timeout.
		return sdk.Unavailable("%s: %w", what, err)
	}
	code, msg := ae.ErrorCode(), ae.ErrorMessage()
	lower := strings.ToLower(msg)
	switch {
	case authErrorCodes[code]:
		return sdk.Unauthorized("%s: AWS refused the credentials (%s): %s", what, code, msg)
	case isThrottle(code), code == "OperationLimitExceeded":
		return sdk.Retryable("%s: throttled by AWS (%s): %s", what, code, msg).WithCode(registrar.CodeThrottled)
	case code == "UnsupportedTLD":
		return sdk.Invalid("%s: Route 53 Domains does not support this TLD: %s", what, msg).WithCode(registrar.CodeUnsupportedTLD)
	case code == "TLDRulesViolation":
		return sdk.Invalid("%s: the TLD's registry does not allow this: %s", what, msg).WithCode(registrar.CodeTLDRules)
	case code == "DuplicateRequest":
		return sdk.Retryable("%s: an earlier request for this domain is still in progress: %s", what, msg).WithCode(registrar.CodeOperationInProgress)
	case code == "DomainLimitExceeded":
		return sdk.Declined("%s: the account may not hold more domains: %s", what, msg).WithCode(registrar.CodeDomainLimit)
	case code == "NoSuchHostedZone":
		return sdk.NotFound("%s: %s", what, msg).WithCode(registrar.CodeNoHostedZone)
	case code == "NoSuchChange":
		return sdk.NotFound("%s: %s", what, msg)
	case code == "InvalidInput" && notFound(lower):
		return sdk.NotFound("%s: %s", what, msg)
	case code == "InvalidInput" && (strings.Contains(lower, "not available") || strings.Contains(lower, "unavailable")):
		return sdk.Declined("%s: %s", what, msg).WithCode(registrar.CodeDomainUnavailable)
	case code == "InvalidInput", code == "InvalidChangeBatch", code == "InvalidDomainName", code == "InvalidArgument":
		return sdk.Invalid("%s: %s", what, changeBatchMessage(err, msg))
	case ae.ErrorFault() == smithy.FaultServer || httpStatus(err) >= 500:
		return sdk.Unavailable("%s: AWS failed (%s): %s", what, code, msg)
	}
	return sdk.Internal("%s: unexpected AWS error %s: %s", what, code, msg)
}

func isThrottle(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// notFound recognizes Route 53 Domains' InvalidInput for something that is
// not in the account ("Domain example.com not found in 1111 account.").
func notFound(lowerMsg string) bool {
	return strings.Contains(lowerMsg, "not found") || strings.Contains(lowerMsg, "does not exist") ||
		strings.Contains(lowerMsg, "no operation")
}

// errorCode reports the AWS error code in err's chain, "" if none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// changeBatchMessage joins Route 53's per-change messages when it sent
// several (InvalidChangeBatch), so the operator sees every problem.
func changeBatchMessage(err error, msg string) string {
	var icb *r53types.InvalidChangeBatch
	if errors.As(err, &icb) && len(icb.Messages) > 0 {
		return strings.Join(icb.Messages, "; ")
	}
	return msg
}

// httpStatus is the HTTP status of the response behind err, 0 if none.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
