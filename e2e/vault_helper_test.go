package e2e_test

import "github.com/fidelis/fidelis/vault"

func vaultWrapped(kek string, wrapped []byte) vault.WrappedDEK {
	return vault.WrappedDEK{KEKID: kek, Wrapped: wrapped}
}
