package reacl

func (p *sddlParser) condition() ([]byte, error) {
	return nil, p.errf("conditional expressions not yet supported")
}
func (p *sddlParser) claim() ([]byte, error)                { return nil, p.errf("claims not yet supported") }
func appendCondition(b []byte, data []byte) ([]byte, error) { return nil, ErrNotRepresentable }
func appendClaim(b []byte, data []byte) ([]byte, error)     { return nil, ErrNotRepresentable }
