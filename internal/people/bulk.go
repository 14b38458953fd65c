package people

import (
	"github.com/gridhall/gridhall/internal/seal"
)

// SealedIdentity is a resident's identity document and phone number in the
// form the registry stores them: sealed values and their blind indexes.
type SealedIdentity struct {
	DocumentSealed, DocumentIndex string
	PhoneSealed, PhoneIndex       string
}

// SealIdentity seals a resident's normalised document number (of the given
// kind, such as "id_card") and phone number ("" for none) exactly as
// AddResident and Import store them, so that rows written by a bulk loader
// outside the service (gridhall gen) are found by search and revealed like
// any other. The caller validates: GenerateIDNumber and NormalizePhone give
// normalised values.
func SealIdentity(k *seal.Keyring, kind, document, phone string) (SealedIdentity, error) {
	doc, err := k.Seal(purposeDocument, document)
	if err != nil {
		return SealedIdentity{}, err
	}
	ph, err := k.Seal(purposePhone, phone)
	if err != nil {
		return SealedIdentity{}, err
	}
	id := SealedIdentity{DocumentSealed: doc, DocumentIndex: k.BlindIndex(purposeDocument, kind+":"+document), PhoneSealed: ph}
	if phone != "" {
		id.PhoneIndex = k.BlindIndex(purposePhone, phone)
	}
	return id, nil
}

// UnsealIdentity opens what SealIdentity sealed: the document and phone
// numbers in clear. Tests of bulk loaders compare generated data with it.
func UnsealIdentity(k *seal.Keyring, documentSealed, phoneSealed string) (document, phone string, err error) {
	if document, err = k.Unseal(purposeDocument, documentSealed); err != nil {
		return "", "", err
	}
	phone, err = k.Unseal(purposePhone, phoneSealed)
	return document, phone, err
}
