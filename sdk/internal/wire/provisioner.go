package wire

import (
	provisionerv1 "github.com/switchyard/switchyard/sdk/proto/provisioner/v1"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// CreateAccountRequestToProto converts an account creation request.
func CreateAccountRequestToProto(r provisioner.CreateAccountRequest) *provisionerv1.CreateAccountRequest {
	return &provisionerv1.CreateAccountRequest{
		IdempotencyKey: r.IdempotencyKey, Domain: r.Domain, Username: r.Username, Password: r.Password,
		Package: r.Package, ContactEmail: r.ContactEmail, Server: r.Server, Metadata: r.Metadata,
	}
}

// CreateAccountRequestFromProto converts an account creation request.
func CreateAccountRequestFromProto(p *provisionerv1.CreateAccountRequest) provisioner.CreateAccountRequest {
	return provisioner.CreateAccountRequest{
		IdempotencyKey: p.GetIdempotencyKey(), Domain: p.GetDomain(), Username: p.GetUsername(),
		Password: p.GetPassword(), Package: p.GetPackage(), ContactEmail: p.GetContactEmail(),
		Server: p.GetServer(), Metadata: p.GetMetadata(),
	}
}

// AccountToProto converts an account.
func AccountToProto(a provisioner.Account) *provisionerv1.Account {
	return &provisionerv1.Account{
		Username: a.Username, Domain: a.Domain, Package: a.Package, Status: string(a.Status),
		Server: a.Server, Ip: a.IP, Nameservers: a.Nameservers,
	}
}

// AccountFromProto converts an account.
func AccountFromProto(p *provisionerv1.Account) provisioner.Account {
	return provisioner.Account{
		Username: p.GetUsername(), Domain: p.GetDomain(), Package: p.GetPackage(),
		Status: provisioner.AccountStatus(p.GetStatus()), Server: p.GetServer(), IP: p.GetIp(),
		Nameservers: p.GetNameservers(),
	}
}
