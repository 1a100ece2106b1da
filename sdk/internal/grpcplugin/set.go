package grpcplugin

import (
	"github.com/hashicorp/go-plugin"

	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// Impls are the implementations a plugin process serves; nil kinds are not
// served.
type Impls struct {
	Provider    provider.Provider
	Provisioner provisioner.Provisioner
	Registrar   registrar.Registrar
	Mailer      mailer.Mailer
}

// ServerSet is the plugin set a plugin process serves: only the kinds that
// have an implementation.
func ServerSet(impls Impls) plugin.PluginSet {
	set := plugin.PluginSet{}
	if impls.Provider != nil {
		set[string(meta.KindProvider)] = &ProviderPlugin{Impl: impls.Provider}
	}
	if impls.Provisioner != nil {
		set[string(meta.KindProvisioner)] = &ProvisionerPlugin{Impl: impls.Provisioner}
	}
	if impls.Registrar != nil {
		set[string(meta.KindRegistrar)] = &RegistrarPlugin{Impl: impls.Registrar}
	}
	if impls.Mailer != nil {
		set[string(meta.KindMailer)] = &MailerPlugin{Impl: impls.Mailer}
	}
	return set
}

// ClientSet is the plugin set a host dispenses from: every kind.
func ClientSet() plugin.PluginSet {
	return plugin.PluginSet{
		string(meta.KindProvider):    &ProviderPlugin{},
		string(meta.KindProvisioner): &ProvisionerPlugin{},
		string(meta.KindRegistrar):   &RegistrarPlugin{},
		string(meta.KindMailer):      &MailerPlugin{},
	}
}
