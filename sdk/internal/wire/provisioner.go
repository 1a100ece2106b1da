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
		Server: a.Server, Ip: a.IP, Nameservers: a.Nameservers, Password: a.Password,
	}
}

// AccountFromProto converts an account.
func AccountFromProto(p *provisionerv1.Account) provisioner.Account {
	return provisioner.Account{
		Username: p.GetUsername(), Domain: p.GetDomain(), Package: p.GetPackage(),
		Status: provisioner.AccountStatus(p.GetStatus()), Server: p.GetServer(), IP: p.GetIp(),
		Nameservers: p.GetNameservers(), Password: p.GetPassword(),
	}
}

// PackagesToProto converts a package list.
func PackagesToProto(pkgs []provisioner.Package) *provisionerv1.ListPackagesResponse {
	out := &provisionerv1.ListPackagesResponse{Packages: make([]*provisionerv1.Package, 0, len(pkgs))}
	for _, p := range pkgs {
		out.Packages = append(out.Packages, &provisionerv1.Package{Name: p.Name})
	}
	return out
}

// PackagesFromProto converts a package list.
func PackagesFromProto(p *provisionerv1.ListPackagesResponse) []provisioner.Package {
	out := make([]provisioner.Package, 0, len(p.GetPackages()))
	for _, pkg := range p.GetPackages() {
		out = append(out, provisioner.Package{Name: pkg.GetName()})
	}
	return out
}

// LoginURLToProto converts a login link.
func LoginURLToProto(u provisioner.LoginURL) *provisionerv1.LoginURLResponse {
	return &provisionerv1.LoginURLResponse{Url: u.URL, ExpiresAt: timeToProto(u.ExpiresAt)}
}

// LoginURLFromProto converts a login link.
func LoginURLFromProto(p *provisionerv1.LoginURLResponse) provisioner.LoginURL {
	return provisioner.LoginURL{URL: p.GetUrl(), ExpiresAt: timeFromProto(p.GetExpiresAt())}
}
