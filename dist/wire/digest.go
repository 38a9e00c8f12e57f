package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// transcript is what both digests cover.
type transcript struct {
	a              hello
	b              challenge
	nonceA, nonceB [NonceLen]byte
}

func (t *transcript) digest(cookie string, label byte) [DigestLen]byte {
	m := hmac.New(sha256.New, []byte(cookie))
	b := make([]byte, 0, 1+2+2*NonceLen+4+len(t.a.Name)+len(t.b.Name)+2*(4+8+1))
	b = append(b, label)
	b = binary.BigEndian.AppendUint16(b, Version)
	b = append(b, t.nonceA[:]...)
	b = append(b, t.nonceB[:]...)
	b = appendStr(b, t.a.Name)
	b = appendStr(b, t.b.Name)
	b = binary.BigEndian.AppendUint32(b, t.a.Creation)
	b = binary.BigEndian.AppendUint32(b, t.b.Creation)
	b = binary.BigEndian.AppendUint64(b, t.a.Flags)
	b = binary.BigEndian.AppendUint64(b, t.b.Flags)
	b = append(b, boolByte(t.a.Hidden), boolByte(t.b.Hidden))
	m.Write(b)
	var d [DigestLen]byte
	m.Sum(d[:0])
	return d
}
