package ipn

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is an IPN type (IPN_TYPE_ID). Its String is the IPN_TYPE_NAME PayPro
// sends, which is also part of the SIGNATURE input.
type Type int

// The IPN types PayPro documents. Numbers 18–20 are not assigned.
const (
	OrderCharged                    Type = 1
	OrderRefunded                   Type = 2
	OrderChargedBack                Type = 3
	OrderDeclined                   Type = 4
	OrderPartiallyRefunded          Type = 5
	SubscriptionChargeSucceed       Type = 6
	SubscriptionChargeFailed        Type = 7
	SubscriptionSuspended           Type = 8
	SubscriptionRenewed             Type = 9
	SubscriptionTerminated          Type = 10
	SubscriptionFinished            Type = 11
	LicenseRequested                Type = 12
	TrialCharge                     Type = 13
	OrderChargebackIsWon            Type = 14
	OrderCustomerInformationChanged Type = 15
	InstantLeadNotification         Type = 16
	OrderOnWaiting                  Type = 17
	SubscriptionPaymentInfoChanged  Type = 21
)

var typeNames = map[Type]string{
	OrderCharged:                    "OrderCharged",
	OrderRefunded:                   "OrderRefunded",
	OrderChargedBack:                "OrderChargedBack",
	OrderDeclined:                   "OrderDeclined",
	OrderPartiallyRefunded:          "OrderPartiallyRefunded",
	SubscriptionChargeSucceed:       "SubscriptionChargeSucceed",
	SubscriptionChargeFailed:        "SubscriptionChargeFailed",
	SubscriptionSuspended:           "SubscriptionSuspended",
	SubscriptionRenewed:             "SubscriptionRenewed",
	SubscriptionTerminated:          "SubscriptionTerminated",
	SubscriptionFinished:            "SubscriptionFinished",
	LicenseRequested:                "LicenseRequested",
	TrialCharge:                     "TrialCharge",
	OrderChargebackIsWon:            "OrderChargebackIsWon",
	OrderCustomerInformationChanged: "OrderCustomerInformationChanged",
	InstantLeadNotification:         "InstantLeadNotification",
	OrderOnWaiting:                  "OrderOnWaiting",
	SubscriptionPaymentInfoChanged:  "SubscriptionPaymentInfoChanged",
}

// Types lists every documented IPN type in id order.
func Types() []Type {
	return []Type{
		OrderCharged, OrderRefunded, OrderChargedBack, OrderDeclined, OrderPartiallyRefunded,
		SubscriptionChargeSucceed, SubscriptionChargeFailed, SubscriptionSuspended, SubscriptionRenewed,
		SubscriptionTerminated, SubscriptionFinished, LicenseRequested, TrialCharge, OrderChargebackIsWon,
		OrderCustomerInformationChanged, InstantLeadNotification, OrderOnWaiting, SubscriptionPaymentInfoChanged,
	}
}

// Valid reports whether t is a documented IPN type.
func (t Type) Valid() bool { _, ok := typeNames[t]; return ok }

// String returns the IPN_TYPE_NAME, or "IPNType(n)" for an unknown id.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("IPNType(%d)", int(t))
}

// ParseType accepts an IPN type by id ("1") or by name ("OrderCharged";
// the name is matched case-insensitively because people type it).
func ParseType(s string) (Type, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if t := Type(n); t.Valid() {
			return t, nil
		}
		return 0, fmt.Errorf("ipn: unknown IPN type id %d", n)
	}
	for t, name := range typeNames {
		if strings.EqualFold(name, s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("ipn: unknown IPN type %q", s)
}
